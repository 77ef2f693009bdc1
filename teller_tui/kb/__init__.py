"""The knowledge base: help articles for the counter, searchable in Chinese and English."""
