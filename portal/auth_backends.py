from django.contrib.auth.backends import ModelBackend

from portal.models import User


class EmailBackend(ModelBackend):
    """Staff sign in with their email address and password."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not username or password is None:
            return None
        user = User.objects.filter(email__iexact=username.strip()).first()
        if user is None:
            User().set_password(password)  # same time spent whether or not the email exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
