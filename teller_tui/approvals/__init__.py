"""Supervisor overrides (four eyes) and large-value cash reports.

Import from the module that owns the name: ``actions`` (what can be approved), ``policy`` (the rules and
their evaluation), ``spec`` (what exactly is approved, and its hash), ``records`` (stored requests and
their read models), ``service`` (:class:`~teller_tui.approvals.service.ApprovalService`),
``large_value`` (the compliance reports) and ``dashboard`` (the supervisor's read model).
"""
