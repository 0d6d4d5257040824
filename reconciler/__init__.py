"""reconciler: schema-as-code for Notion and Supabase (plan and apply, like Terraform).

Its loggers are silent unless logging is configured (`reconciler.logs`)."""

__version__ = "0.1.0"
