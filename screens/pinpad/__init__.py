"""The customer display at the counter (``teller pinpad --pair T01``)."""
