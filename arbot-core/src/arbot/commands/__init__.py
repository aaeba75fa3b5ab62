"""Sub-commands of ``arbot`` that live in their own modules (``arbot config``, ``arbot keys``,
``arbot emulate``...)."""
