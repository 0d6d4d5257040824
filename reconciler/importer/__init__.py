"""`reconciler import`: live Notion databases and Postgres tables → the project's YAML.

Terraform's `import` and Atlas's `schema inspect`: what exists is written as spec files that
the loader (`project.loader`) reads back into the same models, and the ids are recorded in
`.reconciler/state.json`, so `reconciler plan` right after an import has nothing to do.

- `names`: logical names (file stems) from titles.
- `notion_docs`, `postgres_docs`: live model → document data (pure).
- `yaml_out`: document data → YAML text (ruamel.yaml, stable key order).
- `notion_source`: which databases to read (ids, URLs, pages, every shared one) and reading them.
- `run`: the import as one call (`import_into`).
"""
