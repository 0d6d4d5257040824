"""Base class of every resource model: frozen, strict pydantic, no I/O."""

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """Frozen pydantic model that refuses unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")
