"""JSON shapes of the CLI's reports, built from the store's results (ids sorted ascending)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from store.access import ChatAccess
    from store.lookup import UserRef
    from store.permissions import PermissionSet, WhoGrants
    from store.risk import RiskReport
    from store.scope import Scope


def user_ref(user: UserRef) -> dict[str, Any]:
    return {"id": user.id, "username": user.username}


def scope_report(user: UserRef, scope: Scope) -> dict[str, Any]:
    return {
        "user": user_ref(user),
        "usable_groups": sorted(scope.usable_groups),
        "assignable_groups": sorted(scope.assignable_groups),
        "required_groups": sorted(scope.required_groups),
        "visible_users": scope.visible_user_ids(),
        "editable_users": scope.editable_user_ids(),
        "assignable_department_groups": sorted(scope.assignable_department_groups),
        "assignable_departments": sorted(scope.assignable_departments),
    }


def perms_report(permissions: PermissionSet) -> dict[str, Any]:
    return {
        "permissions": [
            {
                "module": e.module,
                "function": e.function,
                "limitation": e.limitation,
                "granted_by": [{"group_id": g, "role_id": r} for g, r in e.granted_by],
            }
            for e in permissions.entries()
        ],
        "excluded": [{"module": m, "function": f} for m, f in permissions.excluded()],
    }


def who_grants_report(user: UserRef, answer: WhoGrants) -> dict[str, Any]:
    return {
        "user": user_ref(user),
        "module": answer.module,
        "function": answer.function,
        "granted": answer.granted,
        "limitation": answer.limitation,
        "rows": [
            {
                "policy_id": m.row.rolefunction_id,
                "group_id": m.row.group_id,
                "group_name": m.row.group_name,
                "group_disabled": m.row.group_disabled,
                "role_id": m.row.role_id,
                "role_name": m.row.role_name,
                "module": m.row.module,
                "function": m.row.function,
                "type": "exclude" if m.row.is_exclusion else "grant",
                "limitation": m.row.limitation,
                "effective": m.effective,
                "note": m.note,
            }
            for m in answer.rows
        ],
    }


def access_report(user: UserRef, access: ChatAccess) -> dict[str, Any]:
    report: dict[str, Any] = {"user": user_ref(user)}
    report.update(access.as_json())
    return report


def risk_text(report: RiskReport) -> list[str]:
    """The risk report's lines for a terminal: one block per finding, most urgent first, a
    blank line between blocks (each line one line, whatever the names in it hold)."""
    if not report.findings:
        return ["No risks found."]
    counts = ", ".join(f"{n} {severity}" for severity, n in report.counts().items() if n)
    lines = [f"{len(report.findings)} findings ({counts})"]
    for finding in report.findings:
        objects = ", ".join(f"{o.type} {o.name} (#{o.id})" for o in finding.objects)
        lines += [
            "",
            f"[{finding.severity}] {finding.rule}: {finding.title}",
            f"  objects: {objects}",
            f"  why: {finding.message}",
            f"  fix: {finding.fix}",
        ]
    return lines
