"""Create the four role groups (admin, editor, tester, operator) that agents.permissions reads."""

from django.db import migrations

ROLES = ("admin", "editor", "tester", "operator")


def create_role_groups(apps, schema_editor):
    group_model = apps.get_model("auth", "Group")
    for role in ROLES:
        group_model.objects.get_or_create(name=role)


def delete_role_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES, user__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("agents", "0002_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_role_groups, delete_role_groups)]
