// Microsoft's own SignalR client against the simulator, configured as ProjectX's official
// sample does (skipNegotiation, WebSockets, token in accessTokenFactory): prints one JSON
// line per received user event, then exits after the first GatewayUserPosition.
const signalR = require("@microsoft/signalr");

const [url, token, accountId] = process.argv.slice(2);
const connection = new signalR.HubConnectionBuilder()
  .withUrl(`${url}?access_token=${token}`, {
    skipNegotiation: true,
    transport: signalR.HttpTransportType.WebSockets,
    accessTokenFactory: () => token,
    timeout: 10000,
  })
  .configureLogging(signalR.LogLevel.Error)
  .build();

for (const name of ["GatewayUserOrder", "GatewayUserTrade", "GatewayUserPosition"]) {
  connection.on(name, (payload) => {
    console.log(JSON.stringify({ event: name, payload }));
    if (name === "GatewayUserPosition") connection.stop().then(() => process.exit(0));
  });
}

connection
  .start()
  .then(async () => {
    const id = Number(accountId);
    await connection.invoke("SubscribeOrders", id);
    await connection.invoke("SubscribeTrades", id);
    await connection.invoke("SubscribePositions", id);
    console.log(JSON.stringify({ event: "subscribed" }));
  })
  .catch((err) => {
    console.error(String(err));
    process.exit(2);
  });
setTimeout(() => process.exit(3), 15000);
