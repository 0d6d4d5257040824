"""The desired state from YAML: documents (what users write) → validated, resolved models.

`load_workspace(root)` is the entry point; `find_root(start)` finds the workspace root;
`write_schemas(directory)` writes the JSON Schemas editors use for autocompletion.
"""

from reconciler.spec.config import Config, NotionConfig, SupabaseConfig
from reconciler.spec.jsonschema import write_schemas
from reconciler.spec.loader import Workspace, find_root, load_workspace

__all__ = [
    "Config", "NotionConfig", "SupabaseConfig", "Workspace", "find_root", "load_workspace",
    "write_schemas",
]
