"""The pages of admins (accounts, care teams) and of auditors (the audit log and its chain),
gathered into one router (issue 13, part 9). The chain's page comes before the log's
entries, whose `/audit/{event_id}` would otherwise take its path."""

from fastapi import APIRouter

from cervixwatch.web.pages import admin_account, admin_teams, admin_users, audit_chain, audit_log

router = APIRouter(include_in_schema=False)
# admin_users before admin_account: /admin/users/new is not an account's id.
for _module in (admin_users, admin_account, admin_teams, audit_chain, audit_log):
    router.include_router(_module.router)

__all__ = ["router"]
