"""The user admin, narrowed for dashboard admins (staff who are not superusers).

A dashboard admin manages officers' accounts only (``webapp.dashboard.access.may_manage_account``):
it may add an officer, edit one, reset an officer's password; it may only view an account that
holds more (staff, superusers, any group besides ``officers``, its own account included), on every
admin view (the password view checks the same change permission). Only a superuser may grant
groups, permissions, staff or superuser status: for anyone else those fields are read-only, on the
add and the change view alike, and a user a dashboard admin adds joins ``officers``.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from webapp.dashboard.access import may_manage_account
from webapp.dashboard.accounts import add_to_officers

User = get_user_model()
SUPERUSER_ONLY_FIELDS = ["is_staff", "is_superuser", "groups", "user_permissions"]


class GuardedUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += SUPERUSER_ONLY_FIELDS
        return readonly

    def has_change_permission(self, request, obj=None):
        if obj is not None and not may_manage_account(request.user, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and not may_manage_account(request.user, obj):
            return False
        return super().has_delete_permission(request, obj)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change and not request.user.is_superuser:
            add_to_officers(form.instance)


admin.site.unregister(User)
admin.site.register(User, GuardedUserAdmin)
