"""The desired state from YAML: documents (what users write) → validated, resolved models.

`load_project(root)` is the entry point; `find_root(start)` finds the project root;
`write_schemas(directory)` writes the JSON Schemas editors use for autocompletion.
"""

from reconciler.project.config import Config, NotionConfig, SupabaseConfig
from reconciler.project.jsonschema import write_schemas
from reconciler.project.loader import Project, find_root, load_project

__all__ = [
    "Config", "NotionConfig", "SupabaseConfig", "Project", "find_root", "load_project",
    "write_schemas",
]
