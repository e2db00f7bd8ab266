from django.apps import AppConfig


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = "Attendance"

    def ready(self) -> None:
        from attendance.receivers import record_recognized_person
        from recognition.signals import person_recognized

        person_recognized.connect(record_recognized_person, dispatch_uid="attendance.record_recognized_person")
