from django.contrib import admin

from streha.places.models import Municipality, Region

admin.site.register(Region, list_display=["code", "name_sq", "name_sr", "country"])
admin.site.register(Municipality, list_display=["code", "name_sq", "name_sr", "region"])
