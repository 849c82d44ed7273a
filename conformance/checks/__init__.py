"""The rule checks, one module per family of rules; ``conformance.mixin`` combines them."""
