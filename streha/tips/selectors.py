def my_work_panels(user) -> list:
    """Panels this app adds to a user's "my work" page (streha.web.selectors.Panel)."""
    return []


def navigation_entries(user) -> list:
    """(label, url) entries this app adds to the main navigation for ``user``."""
    return []
