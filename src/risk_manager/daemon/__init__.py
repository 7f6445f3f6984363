"""The daemon: the engine run live against a ProjectX gateway (the simulator by default)."""
