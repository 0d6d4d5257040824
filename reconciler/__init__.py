"""reconciler: schema-as-code for Notion and Supabase (plan and apply, like Terraform)."""

__version__ = "0.1.0"
