"""The patient's private page: links, patient reports, one-tap dose links, nurses' reviews."""
