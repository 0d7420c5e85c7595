"""Platform plumbing shared by publishers/ (outbound) and collectors/ (inbound).

HTTP sending with the exactly-once failure rules, untrusted-body parsing, Graph API and Zalo error
mapping, and Zalo's token refresh. Imports only ``common/``; neither area imports the other.
"""
