"""The built-in levers, one module each, registered through the same hook as third parties."""
