"""The user admin, narrowed for dashboard admins (staff who are not superusers).

Only a superuser may change or delete a superuser, on every admin view (the password view checks
the same change permission), and only a superuser may grant staff or superuser status or
permissions: for anyone else those fields are read-only, on the add and the change view alike.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

User = get_user_model()
SUPERUSER_ONLY_FIELDS = ["is_staff", "is_superuser", "user_permissions"]


class GuardedUserAdmin(UserAdmin):
    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            readonly += SUPERUSER_ONLY_FIELDS
        return readonly

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


admin.site.unregister(User)
admin.site.register(User, GuardedUserAdmin)
