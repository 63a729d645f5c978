"""CervixWatch: care of cervical insufficiency and prevention of spontaneous preterm birth."""

__version__ = "0.1.0"
