from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from fleetweb.admin_site import RoleModelAdmin

from .models import Activity, ApiToken, Profile
from .roles import Role, is_admin, user_role
from .services import _admins_left, activity_record, user_update
from .tokens import token_revoke

User = get_user_model()


@admin.register(Activity)
class ActivityAdmin(RoleModelAdmin):
    """The audit log: visible to every reader, changed by nobody."""

    list_display = ("created_at", "actor_name", "action", "details")
    list_filter = ("action",)
    search_fields = ("actor_name", "action")
    date_hierarchy = "created_at"
    readonly_fields = ("actor", "actor_name", "action", "details", "created_at")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ("role", "api_only")

    def clean_role(self) -> str:
        role = self.cleaned_data["role"]
        user = self.instance.user if self.instance.pk else None
        if user is not None and is_admin(user) and role != Role.ADMIN and _admins_left(user) == 0:
            raise forms.ValidationError("cannot remove the last admin")
        return role


class ProfileInline(admin.StackedInline):
    model = Profile
    form = ProfileForm
    can_delete = False
    verbose_name = "fleetweb role"
    verbose_name_plural = "fleetweb role"
    extra = 1
    max_num = 1


class FleetUserAdmin(UserAdmin):
    """Users with their fleetweb role. Admins only: the list shows who can do what."""

    inlines = [ProfileInline]
    list_display = ("username", "email", "role", "is_active", "last_login")
    list_filter = ("is_active", "fleet_profile__role")
    list_select_related = ("fleet_profile",)

    @admin.display(description="role")
    def role(self, obj: Any) -> str:
        role = user_role(obj) if obj.is_active else None
        return role.value if role else "inactive"

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request.user) and (obj is None or obj.pk != request.user.pk)

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not Profile:
            return super().save_formset(request, form, formset, change)
        for profile in formset.save(commit=False):
            if profile.pk is None:
                profile.user = form.instance
                profile.save()
                activity_record(
                    actor=request.user,
                    action="changed_user_global_role",
                    details={"user_id": form.instance.pk, "user_email": form.instance.email, "role": profile.role},
                )
                continue
            profile.save(update_fields=["api_only"])
            # The service checks the last-admin rule, records the change and demotes a superuser
            # whose role is lowered.
            user_update(actor=request.user, user=form.instance, role=profile.role)
        return None

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        from .services import UserError, user_delete

        try:
            user_delete(actor=request.user, user=obj)
        except UserError as exc:
            self.message_user(request, str(exc), messages.ERROR)


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, FleetUserAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(RoleModelAdmin):
    """Tokens are issued by login and by creating API-only users; here admins see and revoke them."""

    list_display = ("user", "kind", "name", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("kind", ("revoked_at", admin.EmptyFieldListFilter))
    search_fields = ("user__username", "user__email", "name")
    list_select_related = ("user",)
    readonly_fields = ("user", "kind", "name", "created_at", "expires_at", "last_used_at", "revoked_at")
    actions = ["revoke"]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_admin(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin(request.user)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["view"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        tokens = list(queryset.filter(revoked_at__isnull=True))
        for token in tokens:
            token_revoke(token=token)
        activity_record(actor=request.user, action="revoked_api_tokens", details={"token_ids": [t.pk for t in tokens]})
        self.message_user(request, f"Revoked {len(tokens)} token(s).", messages.SUCCESS)
