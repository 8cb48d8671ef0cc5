"""Electronic signatures of investigators' decisions: what is signable, signing (password
re-entry), what awaits a signature, and the signature manifest (docs/signatures.md)."""
