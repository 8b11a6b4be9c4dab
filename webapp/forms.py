"""Pieces shared by the filter forms of every page (history, instances, audit trail)."""

from datetime import date
from html import escape
from typing import TYPE_CHECKING

from django import forms
from django.core.validators import MaxValueValidator
from django.forms.utils import flatatt
from django.utils.choices import BaseChoiceIterator
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class FilterForm(forms.Form):
    """A GET form whose invalid fields are ignored rather than fatal: a stale link still works.
    The search box is rendered by the template, with its own htmx trigger."""

    def value(self, name, default=None):
        if not self.is_bound or name in self.errors:
            return default
        return self.cleaned_data.get(name) or default


class DateRangeFilterForm(FilterForm):
    """A filter form with a `since`/`until` date range that must not run backwards."""

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and until < since:
            self.add_error("until", _("The end date is before the start date."))
        return cleaned


# A range's end is taken up to the next midnight, so the last day a date can hold is not a filter.
LAST_FILTER_DATE = date(9998, 12, 31)


def date_filter(label: "StrOrPromise") -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        validators=[MaxValueValidator(LAST_FILTER_DATE, _("Enter a date before the year 9999."))],
    )


class Options(BaseChoiceIterator):
    """Flat (value, label) pairs of plain strings, which Django then takes as they are instead
    of normalising every option again for the field and for its widget."""

    def __init__(self, pairs: list[tuple[str, str]]):
        self.pairs = pairs

    def __iter__(self):
        return iter(self.pairs)


def with_any(label: str, choices) -> Options:
    return Options([("", label), *((str(value), str(text)) for value, text in choices)])


def choice_field(form: forms.BaseForm, name: str) -> forms.ChoiceField:
    """The form's choice field `name`, whose choices are only known per request. `form.fields`
    is typed as holding plain fields; this one is declared a ChoiceField on the form."""
    field = form.fields[name]
    if not isinstance(field, forms.ChoiceField):
        raise TypeError(f"{type(form).__name__}.{name} is not a choice field")
    return field


def options_html(choices, chosen: set[str]) -> str:
    """`<option>`s of flat, plain-text (value, label) pairs, escaped here, joined in Python."""
    return "".join(
        f'<option value="{escape(key)}"{" selected" if key in chosen else ""}>{escape(label)}</option>'
        for key, label in choices
    )


class FilterSelect(forms.Select):
    """A <select> of flat, plain-text options (`with_any`), joined in Python: Django's Select
    renders every option through a template, about 10 µs apiece, and the history's instance
    filter has a thousand of them."""

    def render(self, name, value, attrs=None, renderer=None):
        options = options_html(self.choices, set(self.format_value(value)))
        attrs = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>{}</select>', name, attrs, mark_safe(options))  # noqa: S308 - escaped in options_html
