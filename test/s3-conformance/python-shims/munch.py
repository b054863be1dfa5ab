"""Stand-in for the `munch` package, which s3-tests uses only as an attribute bag for its
config (`config = munch.Munch; config.main_access_key = ...`). Used only where munch is not
installed (Debian has python3-munch; pip: munch)."""


class Munch(dict):
    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError as error:
            raise AttributeError(name) from error

    def __setattr__(self, name, value):
        self[name] = value
