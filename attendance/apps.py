from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = "Attendance"

    def ready(self) -> None:
        from attendance import figures
        from attendance.home import today_panel
        from attendance.receivers import record_recognized_person
        from config import home, retention
        from config.system import summary
        from recognition.signals import person_recognized

        retention.register(
            retention.RetentionRule(
                name="exports",
                model="attendance.ExportJob",
                date_field="expires_at",
                setting=None,
                description="expired export jobs and their files",
                # 001 export_jobs keep the file's object-storage key in s3_key rather than a FileField.
                on_delete=lambda rows: retention.delete_stored_files(rows, key_fields=("s3_key",)),
            )
        )
        summary.contribute("manual_overrides", figures.manual_overrides)
        home.register(home.HomePanel("attendance", "home/_attendance.html", today_panel, order=30))
        summary.contribute("attendance_completion", figures.attendance_completion)

        person_recognized.connect(record_recognized_person, dispatch_uid="attendance.record_recognized_person")
