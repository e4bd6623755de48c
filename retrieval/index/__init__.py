"""The index port (``base``) and its Qdrant adapters (``edge``, ``client``)."""
