"""A weather and booking assistant: two tools and a structured answer."""

from .assistant import TripAdvice, book_table, get_weather, plan_trip, aplan_trip

__all__ = ["TripAdvice", "aplan_trip", "book_table", "get_weather", "plan_trip"]
