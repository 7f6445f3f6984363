"""The manual's generated parts (docs/, built by MkDocs): the configuration reference and the
rule pages' worked examples, made from the code at build time so the manual cannot drift from it.

Nothing here is needed at run time; ``docs/hooks/manual.py`` (MkDocs ``hooks:``) calls it.
"""

from risk_manager.docs.reference import (
    CONFIG_FILES,
    KeyDoc,
    Section,
    config_reference,
    file_sections,
    missing_descriptions,
    missing_examples,
    render_sections,
    section_for,
    stale_catalog_entries,
)

__all__ = [
    "CONFIG_FILES",
    "KeyDoc",
    "Section",
    "config_reference",
    "file_sections",
    "missing_descriptions",
    "missing_examples",
    "render_sections",
    "section_for",
    "stale_catalog_entries",
]
