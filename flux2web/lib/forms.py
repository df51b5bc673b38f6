"""The form renderer: Jinja2's copies of Django's widget templates where they exist (the
same markup in half the time: the studio renders a dozen widgets per view), Django's own
engine for the widgets only it has (the admin's and auth's)."""

from django.forms.renderers import DjangoTemplates, Jinja2
from django.template import TemplateDoesNotExist


class FormRenderer(Jinja2):
    def __init__(self):
        super().__init__()
        self.fallback = DjangoTemplates()

    def get_template(self, template_name):
        try:
            return super().get_template(template_name)
        except TemplateDoesNotExist:
            return self.fallback.get_template(template_name)
