from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.demo import demo_school_seed


class Command(BaseCommand):
    help = (
        "Load the demo school (Riverside Elementary, 40 fictional families) with sign-ins that "
        "share a publicly known password. Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="seed even with DEBUG off (never on a portal that real families use)",
        )

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "DEBUG is off, so this looks like a real portal: refusing to create accounts "
                "with a publicly known password. Use --force on a throwaway copy only."
            )
        demo = demo_school_seed()
        base_url = settings.PUBLIC_BASE_URL
        self.stdout.write(
            f"{demo.school.name} is ready: {demo.family_count} families, "
            f"{demo.student_count} students, {demo.school.sections.count()} sections."
        )
        self.stdout.write(
            self.style.WARNING(
                "These are demo accounts with a publicly known password: "
                "never leave them on a portal that real families use."
            )
        )
        self.stdout.write("")
        self.stdout.write(f"  {'role':<10}  {'email':<28}  password")
        for sign_in in demo.sign_ins:
            self.stdout.write(f"  {sign_in.role:<10}  {sign_in.email:<28}  {sign_in.password}")
        self.stdout.write("")
        self.stdout.write(f"Portal:        {base_url}/")
        self.stdout.write(f"Staff sign-in: {base_url}/sign-in/staff/  (email and password above)")
        self.stdout.write(f"Admin:         {base_url}/admin/  (the superuser and the school admin)")
        self.stdout.write(
            f"Families:      {base_url}/sign-in/  with any demo guardian's number or email, "
            "for example "
            + ", ".join(demo.guardian_usernames[:2])
            + "; the six-digit code is printed in this console."
        )
