from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "streha.demo"
    verbose_name = "Demo data"
