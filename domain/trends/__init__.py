"""Building blocks of hot-topic detection (see domain.hot_topics for the public API).

text      — normalisation and the terms (syllable unigrams and bigrams) counted per item
baseline  — each term's expected share of items: a decayed average plus an hour-of-day profile
bursts    — window counts, the burst z-score, grouping of terms that burst together
entities  — organisations and places named in a text (underthesea NER plus prefix heuristics)
naming    — representatives, keyword phrases, entities and the short label of a hot topic
nlp       — lazy underthesea (word segmentation, NER) with a fallback when it is unavailable
"""
