from django.contrib.auth.decorators import login_required
from django.http import HttpResponse


@login_required
def home(request):
    return HttpResponse("home")


@login_required
def lead_list(request):
    return HttpResponse("leads")


@login_required
def lead_detail(request, pk: int):
    return HttpResponse("lead")
