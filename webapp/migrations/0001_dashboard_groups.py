"""The dashboard's groups: ``officers`` review photos; ``admins`` also add classes and people.

A frozen copy of what ``admins`` held then (migrations do not import app code). The live list is
``webapp.dashboard.accounts.GROUP_PERMISSIONS``, applied after every ``migrate``.
"""

from django.db import migrations

ADMIN_PERMISSIONS = {
    "auth": ["add_user", "change_user", "view_user", "view_group"],
    "classifier": [
        "add_labelclass",
        "change_labelclass",
        "view_labelclass",
        "view_label",
        "view_submission",
        "view_prediction",
        "view_modelversion",
    ],
}


def create_groups(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    # Permissions are normally made after all migrations; make them now so the groups can hold them.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.get_or_create(name="officers")
    admins, _ = Group.objects.get_or_create(name="admins")
    for app_label, codenames in ADMIN_PERMISSIONS.items():
        admins.permissions.add(*Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["officers", "admins"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("classifier", "0004_seed_label_classes"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
