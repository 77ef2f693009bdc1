"""Customer service after the wallet is open: cases with deadlines and escalation, explanations of
posted entries and refused attempts, the follow-up call list, CRM notes and needs, and the kiosk's
"ask for help" requests. A layer between the desk (which records refusals here) and the branch.
"""
