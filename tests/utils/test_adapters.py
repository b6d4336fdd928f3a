"""The registry of adapters by interface (``utils/adapters.py``): the most specific kind wins, adapters pass
through, unknown kinds are named."""

from __future__ import annotations

import pytest

from xaitk_wcam.utils.adapters import AdapterRegistry


class Adapter:
    def __init__(self, wrapped: object) -> None:
        self.wrapped = wrapped


class Animal: ...


class Dog(Animal): ...


class Puppy(Dog): ...


class AnimalAdapter(Adapter): ...


class DogAdapter(Adapter): ...


def test_the_most_specific_registered_kind_wraps():
    registry = AdapterRegistry(Adapter, "pet")
    registry.register(Animal, AnimalAdapter)
    registry.register(Dog, DogAdapter)
    assert registry.kinds() == (Animal, Dog)
    assert registry.adapter_of(Puppy) is DogAdapter and registry.adapter_of(Animal) is AnimalAdapter
    puppy = Puppy()
    wrapped = registry.wrap(puppy)
    assert type(wrapped) is DogAdapter and wrapped.wrapped is puppy
    assert registry.wrap(wrapped) is wrapped  # an adapter is returned as it is
    assert registry.adapter_of(int) is None


def test_unknown_kinds_and_bad_registrations_are_named():
    registry = AdapterRegistry(Adapter, "pet")
    registry.register(Dog, DogAdapter)
    with pytest.raises(TypeError, match="Animal is no pet of a known kind; accepted: Dog"):
        registry.wrap(Animal())
    with pytest.raises(TypeError, match="kind must be an interface class"):
        registry.register("Dog", DogAdapter)
    with pytest.raises(TypeError, match="adapter must be a subclass of Adapter"):
        registry.register(Animal, object)


def test_a_copy_is_independent():
    registry = AdapterRegistry(Adapter, "pet")
    registry.register(Dog, DogAdapter)
    copy = registry.copy()
    copy.register(Animal, AnimalAdapter)
    assert registry.kinds() == (Dog,) and copy.kinds() == (Dog, Animal)
