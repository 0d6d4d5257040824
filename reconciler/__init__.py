"""reconciler: schema-as-code for Notion and Supabase (plan and apply, like Terraform)."""

import logging

__version__ = "0.1.0"

# A library's loggers stay silent unless the application configures logging (Python's logging
# HOWTO, "Configuring Logging for a Library"): without this, notion-client's own
# `request fail: …` warnings reached stderr through logging's last-resort handler next to the
# reconciler's messages. `--debug` configures logging and shows them.
logging.getLogger(__name__).addHandler(logging.NullHandler())
