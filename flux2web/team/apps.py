from django.apps import AppConfig


class TeamConfig(AppConfig):
    name = "flux2web.team"
    label = "team"
    verbose_name = "Team, quotas and spending"

    def ready(self):
        from flux2web.jobs import money
        from flux2web.jobs.transitions import add_transition_hook
        from flux2web.team import ledger

        # The ledger follows each job's moves (reserve -> settle, refund or hold), and is
        # the one the jobs app asks about a person's money.
        add_transition_hook(ledger.on_transition)
        money.use(ledger)
