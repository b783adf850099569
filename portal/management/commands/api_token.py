from django.core.management.base import BaseCommand, CommandError
from rest_framework.authtoken.models import Token

from portal.models import User
from portal.permissions import access_for


class Command(BaseCommand):
    help = (
        "Print the API token of a staff member's account, creating it when there is none "
        "(for district dashboards: send it as `Authorization: Token <key>`). The token reads "
        "what the account may read; deactivating the account stops it."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="the staff member's sign-in email")
        parser.add_argument(
            "--rotate",
            action="store_true",
            help="replace the account's token with a new one (the old one stops working)",
        )

    def handle(self, *args, email: str, rotate: bool, **options):
        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"No account signs in with {email}.")
        if not user.is_active:
            raise CommandError(f"The account of {email} is deactivated.")
        access = access_for(user)
        if not (access.staff_id and (access.roles or access.district_ids)):
            if access.guardian_id:
                raise CommandError(
                    f"{email} is a guardian's account: API tokens are for staff only."
                )
            raise CommandError(
                f"{email} is not an active staff member with a role at a school or district: "
                "API tokens are for staff only."
            )
        if rotate:
            Token.objects.filter(user=user).delete()
        token, created = Token.objects.get_or_create(user=user)
        self.stderr.write("New token:" if created else "Existing token:")
        self.stdout.write(token.key)
