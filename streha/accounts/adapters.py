from allauth.account.adapter import DefaultAccountAdapter


class StaffAccountAdapter(DefaultAccountAdapter):
    """Staff accounts are created by administrators, never by self-registration."""

    def is_open_for_signup(self, request) -> bool:
        return False
