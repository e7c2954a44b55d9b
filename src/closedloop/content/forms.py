"""The asset form of the library pages (the service validates again and decides)."""

from django import forms

from closedloop.content.models import ContentAsset


class AssetForm(forms.ModelForm):
    url = forms.URLField(
        required=False, max_length=200, assume_scheme="https", help_text="A video or page"
    )
    file = forms.FileField(required=False, help_text="PDF, Word, PowerPoint, Excel or an image")

    class Meta:
        model = ContentAsset
        fields = (
            "title", "kind", "url", "description", "persona", "stage", "industry", "product",
            "campaign", "tags", "review_by",
        )  # fmt: skip
        widgets = {
            "review_by": forms.DateInput(attrs={"type": "date"}),
            "description": forms.Textarea(attrs={"rows": 4}),
        }

    def fields_for_service(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.Meta.fields}
