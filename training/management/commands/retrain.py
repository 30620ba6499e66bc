"""Start a retraining run, as the dashboard button and the weekly schedule do."""

from django.core.management.base import BaseCommand, CommandError

from training import retraining, selectors


class Command(BaseCommand):
    help = "Retrain on the base dataset plus officers' labels; promote the candidate if it clears the policy."

    def add_arguments(self, parser):
        parser.add_argument("--now", action="store_true", help="train in this process instead of the training worker")
        parser.add_argument("--shuffle-labels", action="store_true", help="a deliberately bad candidate (demo)")

    def handle(self, *args, **options):
        try:
            run = retraining.start_retraining("cli", options["shuffle_labels"], enqueue=not options["now"])
        except retraining.RetrainingAlreadyRunning as error:
            raise CommandError(str(error)) from None
        if not options["now"]:
            self.stdout.write(f"Queued retraining run {run.pk} for the training worker.")
            return
        outcome = retraining.run_retraining(run.pk)
        run = selectors.training_run(run.pk)
        self.stdout.write(f"Run {run.pk}: {outcome}")
        if run.error:
            raise CommandError(run.error.strip().splitlines()[-1])
        for key in ("model_version", "candidate_accuracy", "active_accuracy", "reasons"):
            self.stdout.write(f"  {key}: {run.metrics.get(key)}")
