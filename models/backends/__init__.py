"""Model backends, each a plugin implementing `register_models`."""
