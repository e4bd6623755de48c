"""ragline's shell: the CLI, the composition root and the runtime wiring; nothing imports it."""
