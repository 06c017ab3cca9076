"""Built-in plugins: one module per rule family, registered like any third-party plugin."""
