"""regwatch: watch Chinese regulators' notice lists and tell compliance teams what is new."""

__version__ = "0.1.0"
