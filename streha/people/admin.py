# Persons are deliberately not registered in the Django admin: identifying data is read only
# through the access policy and audit, which the admin would bypass.
