"""URLs of the Django side of bench/credit_api.py: the project's, plus baseline (b), DRF generic views.

(b) is `RetrieveAPIView` + nested `ModelSerializer`s over `Organization`, as DRF's tutorial would write it: the
same authentication, scope check (and so the same token-use audit row) as the platform endpoint, and answers with the
same facts (score and rating, published restrictions in force with their district, the listing entry), read through
the serializers and related managers.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.urls import include, path
from django.utils import timezone
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated

from jiancai.accounts.api_auth import TokenScopes
from jiancai.accounts.models import Organization, TokenScope
from jiancai.accounts.roles import OrgType
from jiancai.blacklist.models import Restriction
from jiancai.credit.models import CreditScore


class ScoreSerializer(serializers.ModelSerializer[CreditScore]):
    class Meta:
        model = CreditScore
        fields = ["score", "rating", "computed_on"]


class RestrictionSerializer(serializers.ModelSerializer[Restriction]):
    area = serializers.CharField(source="district.name", default="全市")

    class Meta:
        model = Restriction
        fields = ["restriction_no", "kind", "area", "starts_on", "ends_on"]


class StandingSerializer(serializers.ModelSerializer[Organization]):
    credit = ScoreSerializer(source="credit_score", read_only=True)
    restrictions = serializers.SerializerMethodField()
    blacklist = serializers.SerializerMethodField()

    class Meta:
        model = Organization
        fields = ["uscc", "name", "credit", "restrictions", "blacklist"]

    def get_restrictions(self, obj: Organization) -> Any:
        in_force = obj.restrictions.in_force(timezone.localdate()).published().order_by("starts_on", "id")
        return RestrictionSerializer(in_force, many=True).data

    def get_blacklist(self, obj: Organization) -> dict[str, Any]:
        entry = obj.blacklist_entries.listed(timezone.localdate()).order_by("-published_on", "-id").first()
        return {
            "listed": entry is not None,
            "entry_no": entry.entry_no if entry else None,
            "listed_on": entry.published_on if entry else None,
            "listed_until": entry.ends_on if entry else None,
        }


class StandingView(generics.RetrieveAPIView[Organization]):
    permission_classes = [IsAuthenticated, TokenScopes]
    read_scope = TokenScope.CREDIT_QUERY
    serializer_class = StandingSerializer
    lookup_field = "uscc"

    def get_queryset(self) -> QuerySet[Organization]:
        return Organization.objects.filter(org_type=OrgType.ENTERPRISE)


class StandingListView(generics.ListAPIView[Organization]):
    """Batches: `?usccs=a,b,…` (the naive list: unknown USCCs are simply absent)."""

    permission_classes = [IsAuthenticated, TokenScopes]
    read_scope = TokenScope.CREDIT_QUERY
    serializer_class = StandingSerializer
    pagination_class = None

    def get_queryset(self) -> QuerySet[Organization]:
        codes = [c.strip().upper() for c in self.request.query_params.get("usccs", "").split(",") if c.strip()]
        return Organization.objects.filter(org_type=OrgType.ENTERPRISE, uscc__in=codes[:1000])


urlpatterns = [
    path("api/bench/drf/credit/", StandingListView.as_view()),
    path("api/bench/drf/credit/<str:uscc>/", StandingView.as_view()),
    path("", include("config.urls")),
]
