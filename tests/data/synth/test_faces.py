import numpy as np

from fverify.data.synth import make_identities, render_dataset, render_images, render_video


def test_identities_are_seeded_and_a_longer_list_extends_a_shorter_one():
    short, long = make_identities(3, seed=5), make_identities(6, seed=5)
    for a, b in zip(short, long):
        assert (a.face_w, a.eye_dx, a.mouth_w) == (b.face_w, b.eye_dx, b.mouth_w)
        np.testing.assert_array_equal(a.skin, b.skin)
    assert make_identities(1, seed=6)[0].face_w != short[0].face_w


def test_images_are_deterministic_and_image_j_does_not_depend_on_the_range():
    person = make_identities(2, seed=1)[1]
    images = render_images(person, 5, seed=3)
    assert images.shape == (5, 112, 112, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images, render_images(person, 5, seed=3))
    np.testing.assert_array_equal(images[2:], render_images(person, 3, seed=3, start=2))
    assert not np.array_equal(images, render_images(person, 5, seed=4))
    # every image of a person differs from the others (fresh nuisances)
    assert len({image.tobytes() for image in images}) == 5


def test_dataset_labels_follow_identity_order():
    images, labels = render_dataset(make_identities(3, seed=0), 2)
    assert images.shape == (6, 112, 112, 3)
    assert labels.tolist() == [0, 0, 1, 1, 2, 2]


def test_raw_pixels_do_not_solve_the_task():
    # "learnable but not trivially": same-person images must not be near-duplicates. With
    # pixel cosine (mean removed) the nearest other image is rarely the same person.
    images, labels = render_dataset(make_identities(40, seed=0), 3)
    features = images.reshape(len(images), -1).astype(np.float64)
    features -= features.mean(axis=1, keepdims=True)
    features /= np.linalg.norm(features, axis=1, keepdims=True)
    similarity = features @ features.T
    np.fill_diagonal(similarity, -np.inf)
    rank1 = (labels[similarity.argmax(axis=1)] == labels).mean()
    assert rank1 < 0.3  # chance is 2/119; a trivial task would be near 1


def test_video_frames_drift_smoothly():
    frames = render_video(make_identities(1, seed=0)[0], 6, np.random.default_rng(0))
    assert frames.shape == (6, 112, 112, 3)
    step = np.abs(np.diff(frames.astype(np.int16), axis=0)).mean()
    images = render_images(make_identities(1, seed=0)[0], 6)
    jump = np.abs(np.diff(images.astype(np.int16), axis=0)).mean()
    assert step < jump  # consecutive frames are closer than independent photos
