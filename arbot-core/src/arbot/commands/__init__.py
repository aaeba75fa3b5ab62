"""Command modules ArBot adds to ``arbot`` through its own ``arbot_register_commands`` hook."""
